"""Every listener, middleware and error handler, registered on one Bolt app."""

from slack_bolt import App

from handlers import actions, commands, errors, events, members, middleware, views
from handlers.context import Deps


def register(app: App, deps: Deps) -> None:
    middleware.register(app, deps)
    members.register(app)
    errors.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
