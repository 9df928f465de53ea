"""The KLR on-disk format: the schema-driven CBOR codec, file envelope and text dumps."""
