"""The Chalice app: creates it and registers the blueprints. No logic lives here.

This is the whole API (the `api_handler` function, `make run`, the template); the routes of the families in
`chalicelib.entries.API_FUNCTIONS` are served by functions of their own in AWS.
"""
from chalicelib.entries import new_app
from chalicelib.handlers import auth, callbacks, health, notifications, profile_links, roles, sync, tenants
from chalicelib.handlers import web
from chalicelib.handlers import directory as directory_handlers
from chalicelib.handlers import accounts as accounts_handlers
from chalicelib.handlers import applications as applications_handlers
from chalicelib.handlers import invitations as invitations_handlers
from chalicelib.handlers import external_auth, home, sharing, verification
from chalicelib.handlers import admin_settings
from chalicelib.handlers import followers as followers_handlers
from chalicelib.handlers import messages as messages_handlers
from chalicelib.handlers import callback_queue

app = new_app()
app.register_blueprint(health.bp)
app.register_blueprint(tenants.bp)
app.register_blueprint(callbacks.bp)
app.register_blueprint(callback_queue.bp)
app.register_blueprint(profile_links.bp)
app.register_blueprint(sync.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(roles.bp)
app.register_blueprint(notifications.bp)
app.register_blueprint(web.bp)
app.register_blueprint(directory_handlers.bp)
app.register_blueprint(accounts_handlers.bp)
app.register_blueprint(applications_handlers.bp)
app.register_blueprint(invitations_handlers.bp)
app.register_blueprint(sharing.bp)
app.register_blueprint(home.bp)
app.register_blueprint(external_auth.bp)
app.register_blueprint(verification.bp)
app.register_blueprint(admin_settings.bp)
app.register_blueprint(followers_handlers.bp)
app.register_blueprint(messages_handlers.bp)
