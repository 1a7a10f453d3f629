"""Photo evidence, in three verbs' modules: `attaching` (who may add a photo where, a received
file becomes a photo), `uploads` (resumable upload sessions, whose last chunk attaches the
photo) and `processing` (what the worker does with a photo: analysis, flags, matches, the
attempts it gets). How bytes are received, sniffed, stored and decoded is `audits/photos/`.
"""
