"""The one street renderer: sample people walking past a camera, drawn for the live demo and for
the benchmarks alike.

- `scene`: a stream's shape (`SceneSpec`), one person crossing the view (`Passage`, `Motion`);
- `plan`: the benchmark's planned passes, crossings and lanes, seeded per camera;
- `script`: the demo's scripted walkers, as passages of the same street;
- `people`: the sample people, their portraits and what an enrolment from one holds;
- `drawing`: the seeded street, the masked portraits pasted on it, sensor noise;
- `truth`: which faces a planned frame shows, and how much of each is covered;
- `video`: writing and reading the streams as video files.
"""
