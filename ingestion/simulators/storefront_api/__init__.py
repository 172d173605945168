"""The simulated storefront service: an HTTP API over the ``storefront`` schema of the ops DB.

``create_app(ApiConfig(...))`` builds the FastAPI app; ``running_api(config)`` serves it in
the background on 127.0.0.1; ``shopflow simulate api`` serves it in the foreground.
"""

from ingestion.simulators.storefront_api.app import create_app
from ingestion.simulators.storefront_api.config import ApiConfig
from ingestion.simulators.storefront_api.server import ApiHandle, running_api

__all__ = ["ApiConfig", "ApiHandle", "create_app", "running_api"]
