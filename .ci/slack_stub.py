"""A stand-in for the Slack Web API for .ci/container-check: every request gets 200 and an ok body.

It answers auth.test, chat.postMessage and response_url posts alike. Prints its port, then serves
on 127.0.0.1 until killed. Standard library only: it runs before and outside any virtualenv.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = json.dumps({
    "ok": True, "url": "https://ci.slack.invalid/", "team": "CI", "user": "transferbot",
    "team_id": "T0000CI", "user_id": "U0000CI", "bot_id": "B0000CI",
    "channel": "C0000CI", "ts": "1700000000.000100",
}).encode()


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
