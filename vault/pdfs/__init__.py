"""Long-term PDFs: the signed receipt and certificate PDFs kept as versions in the object store
(``stored.py``) and their re-timestamping before a timestamp's certificate expires (``retimestamps.py``);
the PAdES signing itself is ``signing/pades.py``."""
