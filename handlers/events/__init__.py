"""Events API listeners."""

from slack_bolt import App

from handlers.errors import answering_errors
from handlers.events.home import publish_home
from handlers.events.uploads import on_file_shared, on_message


def register(app: App) -> None:
    app.event("app_home_opened")(answering_errors(publish_home))
    app.event("message")(answering_errors(on_message))
    app.event("file_shared")(answering_errors(on_file_shared))
