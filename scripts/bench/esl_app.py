"""The outbound event-socket application scripts/bench/esl.sh measures calls through: for
each connection the pbx opens it sends connect, myevents, then answer, playback of
silence_stream://1000 (one second), waits for that playback's CHANNEL_EXECUTE_COMPLETE, and
hangs up, then reads until the disconnect notice. A thread per connection. It listens on
argv[1], prints READY, and on SIGTERM prints "sessions=N completed=M"."""

import signal
import socket
import sys
import threading
from urllib.parse import unquote

port = int(sys.argv[1])
counts = {"sessions": 0, "completed": 0}
lock = threading.Lock()


def frames(sock):
    buf = b""
    while True:
        while b"\n\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, buf = buf.split(b"\n\n", 1)
        headers = dict(l.split(": ", 1) for l in head.decode().split("\n") if ": " in l)
        body = b""
        length = int(headers.get("Content-Length", "0"))
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
        body, buf = buf[:length], buf[length:]
        yield headers, body.decode()


def sendmsg(sock, app, arg=None):
    text = "sendmsg\ncall-command: execute\nexecute-app-name: %s\n" % app
    if arg:
        text += "execute-app-arg: %s\n" % arg
    sock.sendall((text + "\n").encode())


def serve(sock):
    with lock:
        counts["sessions"] += 1
    try:
        sock.sendall(b"connect\n\nmyevents\n\n")
        sendmsg(sock, "answer")
        sendmsg(sock, "playback", "silence_stream://1000")
        for headers, body in frames(sock):
            kind = headers.get("Content-Type")
            if kind == "text/event-plain":
                event = dict(l.split(": ", 1) for l in body.split("\n") if ": " in l)
                if event.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" \
                        and unquote(event.get("Application", "")) == "playback":
                    sendmsg(sock, "hangup")
            elif kind == "text/disconnect-notice":
                with lock:
                    counts["completed"] += 1
                break
    except OSError:
        pass
    finally:
        sock.close()


def stop(*_):
    print("sessions=%d completed=%d" % (counts["sessions"], counts["completed"]), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(512)
print("READY", flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
