"""Face engines: what an engine finds and the `FaceEngine` protocol (`faces`), the detectors
(`detectors`) and the recogniser (`recogniser`) the built-in `InsightFaceEngine` runs
(`insightface_engine`), the checksummed model packs they run (`model_packs`), the plugin registry
`lfr.engines` (`plugins`) and enrolment of a watchlist photo (`enrolment`)."""
