"""Photo evidence: streaming ingest, content sniffing, storage, and the worker's processing.

- `ingest`: receiving bytes (multipart upload handler, resumable part files), hashing them
  while they stream, never holding a whole file in memory, never decoding it.
- `sniff`: the type from the bytes (JPEG, PNG, HEIC), not from the name or the header.
- `storage`: the content-addressed, write-once names, through Django's storage API.
- `processing`: what the worker does (EXIF, derived images, perceptual hash, flags).
"""
