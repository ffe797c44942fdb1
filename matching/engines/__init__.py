"""Face engines: the `FaceEngine` protocol, its detectors and recognisers, the checksummed model
packs they run, the plugin registry (`lfr.engines`) and enrolment of a watchlist photo."""
