"""The live pipeline of one camera: frames from a source, faces followed as tracks, the
sightings worth comparing embedded and searched, alert claims journalled before they leave.
What it reads and where it writes it declares itself (`ports`); the node implements them."""
