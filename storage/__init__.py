"""Object-store backends behind one protocol: a local folder (default) and S3-compatible storage.

``storage`` never imports ``vault``; it has its own small error types which the domain maps.
"""
