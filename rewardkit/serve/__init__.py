"""``rewardkit serve``: an HTTP reward server (Starlette on uvicorn). Needs ``rewardkit[serve]``."""

from .app import create_app
from .limits import Limits

__all__ = ["Limits", "create_app"]
