"""Probing and thumbnails against object storage: the layer above ``storage`` and below ``hooks``.

``core`` holds the rules (header parsing, thumbnail size, key templates); this package feeds them bytes read
through the stores in :mod:`airflow_ingest.storage.base`, runs ffprobe and ffmpeg, and writes derived files
back. Modules: :mod:`.proxy` (a loopback range server for ffprobe/ffmpeg), :mod:`.tools` (the subprocess
calls), :mod:`.results` (what one object's probe or thumbnail came to), :mod:`.cache` (the probe cache),
:mod:`.pool` (bounded threads), :mod:`.probing`, :mod:`.thumbnails` and :mod:`.stage` (the plan's media stage).
"""
