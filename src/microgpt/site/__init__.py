"""microgpt in the browser: the static site (build.py) and the Python its pages run in a worker."""
