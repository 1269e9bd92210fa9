"""The Chalice app: creates it and registers the blueprints. No logic lives here."""
from chalice import Chalice

from chalicelib.handlers import api, health, tenants

app = Chalice(app_name="yunqiao")
app.register_middleware(api.json_errors, "http")
app.register_blueprint(health.bp)
app.register_blueprint(tenants.bp)
