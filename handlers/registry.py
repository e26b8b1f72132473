"""Every listener, middleware and error handler, registered on one Bolt app."""

from slack_bolt import App

from handlers import activity, batch, cycle, router
from handlers.slack import errors, members, middleware
from handlers.slack.context import Deps


def register(app: App, deps: Deps) -> None:
    middleware.register(app, deps)
    members.register(app)
    errors.register(app)
    router.register(app)
    activity.register(app)
    cycle.register(app)
    batch.register(app)
