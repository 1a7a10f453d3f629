"""WeasyPrint, imported here only, without its process-wide change to Pillow.

Importing WeasyPrint sets `PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True` for the whole
process. A worker that renders bulletins also checks photo evidence, and the photo
checks rely on Pillow refusing a truncated file (audits/photos/processing.py): the flag
goes back to Pillow's default. The renderer feeds WeasyPrint only JPEGs it re-encoded.
"""

from PIL import ImageFile
from weasyprint import CSS, HTML
from weasyprint.text import ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ImageFile.LOAD_TRUNCATED_IMAGES = False

__all__ = ["CSS", "HTML", "FontConfiguration", "URLFetcher", "URLFetcherResponse", "ffi"]
