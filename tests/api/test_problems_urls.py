"""URLconf for the 500 test: the real URLs plus one view that fails mid-write."""

from server.urls import urlpatterns as real
from tests.api.test_problems import urlpatterns as extra

urlpatterns = extra + real
handler404 = "audits.web.not_found"
handler500 = "audits.web.error"
