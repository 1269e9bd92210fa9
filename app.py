"""The Chalice app: creates it and registers the blueprints. No logic lives here."""
from chalice import Chalice

from chalicelib.handlers import api, auth, callbacks, health, notifications, profile_links, roles, sync, tenants

app = Chalice(app_name="yunqiao")
app.register_middleware(api.json_errors, "http")
app.register_blueprint(health.bp)
app.register_blueprint(tenants.bp)
app.register_blueprint(callbacks.bp)
app.register_blueprint(profile_links.bp)
app.register_blueprint(sync.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(roles.bp)
app.register_blueprint(notifications.bp)
