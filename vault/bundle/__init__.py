"""Evidence bundles: one ZIP (a BagIt 1.0 bag) that proves a case's offboarding, verifiable offline.

``export.prepare`` + ``export.BundleStream`` write it; ``verify.verify_bundle`` checks it and reports every
check; ``templates/bundle/verify.html`` (copied into each bundle) does the same in a browser. The format
is specified in ``docs/bundle.md``.
"""
