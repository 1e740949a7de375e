"""Flask extensions, created once here and bound to the app in ``init_app``."""

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

compress = Compress()
csrf = CSRFProtect()
login_manager = LoginManager()
# No default limits: each sensitive route names its own (sign-in, register).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
