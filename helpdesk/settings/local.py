from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
