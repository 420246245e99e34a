"""Evidence: ingest (stream -> hash -> store -> row -> entry), retrieval, audit of stored objects, orphans."""
