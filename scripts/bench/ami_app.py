"""AsyncAGI application and AMI event listeners for scripts/bench/calls.sh (MODE=asyncagi).

Usage: ami_app.py HOST PORT USER SECRET LISTENERS

Opens LISTENERS + 1 AMI connections with the raw protocol (CRLF lines, blank-line ends a
message). The first drives every call that reaches AGI(agi:async): on AsyncAGIStart it sends
ANSWER, three NOOPs and STREAM FILE hello-world with the AGI action, one at a time, each after
the AsyncAGIExec of the one before, and then ASYNCAGI BREAK (the dialplan hangs up). The
round trip of each NOOP (AGI action sent until its AsyncAGIExec arrives) is measured. All
connections count the events they receive. Prints READY once every connection is logged in;
on SIGTERM prints one JSON line: events per connection, calls driven, NOOP round trips
(p50/p90/p99 ms), errors, then the same in words.
"""

import asyncio
import json
import signal
import sys
import time

NOOPS = 3


def parse(block):
    headers = {}
    for line in block.split("\r\n"):
        key, sep, value = line.partition(": ")
        if sep:
            headers.setdefault(key, value)
    return headers


class Connection:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.events = 0
        self.buffer = ""

    async def messages(self):
        while True:
            while "\r\n\r\n" not in self.buffer:
                data = await self.reader.read(65536)
                if not data:
                    return
                self.buffer += data.decode(errors="replace")
            block, self.buffer = self.buffer.split("\r\n\r\n", 1)
            message = parse(block)
            if "Event" in message:
                self.events += 1
            yield message

    def send(self, **headers):
        text = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(text.encode())


async def connect(host, port, user, secret):
    reader, writer = await asyncio.open_connection(host, port)
    await reader.readline()  # the banner
    conn = Connection(reader, writer)
    conn.send(Action="Login", Username=user, Secret=secret)
    async for message in conn.messages():
        if message.get("Response") == "Success":
            return conn
        if message.get("Response") == "Error":
            raise SystemExit(f"login refused: {message}")
    raise SystemExit("AMI closed during login")


class Driver:
    """Steps each AsyncAGI channel through its commands."""

    def __init__(self, conn):
        self.conn = conn
        self.steps = {}  # channel -> commands still to send
        self.sent = {}  # command id -> (channel, sent at, is noop)
        self.rtts = []
        self.calls = 0
        self.errors = 0
        self.next_id = 0

    def send_next(self, channel):
        todo = self.steps.get(channel)
        if not todo:
            self.steps.pop(channel, None)
            return
        command = todo.pop(0)
        self.next_id += 1
        command_id = f"c{self.next_id}"
        self.sent[command_id] = (channel, time.monotonic(), command == "NOOP")
        self.conn.send(Action="AGI", Channel=channel, Command=command, CommandID=command_id)

    async def run(self):
        async for m in self.conn.messages():
            event = m.get("Event")
            if event == "AsyncAGIStart":
                channel = m["Channel"]
                self.calls += 1
                self.steps[channel] = ["ANSWER"] + ["NOOP"] * NOOPS + [
                    'STREAM FILE hello-world ""',
                    "ASYNCAGI BREAK",
                ]
                self.send_next(channel)
            elif event == "AsyncAGIExec":
                sent = self.sent.pop(m.get("CommandID", ""), None)
                if sent is None:
                    continue
                channel, at, noop = sent
                if noop:
                    self.rtts.append((time.monotonic() - at) * 1000)
                self.send_next(channel)
            elif event == "AsyncAGIEnd":
                self.steps.pop(m.get("Channel", ""), None)
            elif m.get("Response") == "Error":
                self.errors += 1


async def count(conn):
    async for _ in conn.messages():
        pass


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 2)


async def main():
    host, port, user, secret, listeners = sys.argv[1:6]
    conns = [await connect(host, int(port), user, secret) for _ in range(int(listeners) + 1)]
    driver = Driver(conns[0])
    tasks = [asyncio.create_task(driver.run())]
    tasks += [asyncio.create_task(count(c)) for c in conns[1:]]
    print("READY", flush=True)
    started = time.monotonic()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    secs = time.monotonic() - started
    for task in tasks:
        task.cancel()
    listeners = [c.events for c in conns[1:]]
    rtt = {p: percentile(driver.rtts, p) for p in (50, 90, 99)}
    print(
        f"AMI app: {driver.calls} AsyncAGI calls driven, {driver.errors} errors, "
        f"{len(driver.steps)} unfinished; NOOP round trip p50 {rtt[50]} ms, p90 {rtt[90]} ms, "
        f"p99 {rtt[99]} ms over {len(driver.rtts)} NOOPs"
    )
    print(
        f"AMI events over {secs:.1f} s: {len(listeners)} listeners received "
        f"{min(listeners)}..{max(listeners)} events each ({max(listeners) / secs:.0f} events/s each, "
        f"{sum(c.events for c in conns) / secs:.0f} events/s to all {len(conns)} connections), "
        f"{max(listeners) / max(driver.calls, 1):.1f} events per call"
    )
    print(json.dumps({
        "events": [c.events for c in conns],
        "calls": driver.calls,
        "noops": len(driver.rtts),
        "rtt_ms": {p: percentile(driver.rtts, p) for p in (50, 90, 99)},
        "errors": driver.errors,
        "unfinished": len(driver.steps),
    }), flush=True)


asyncio.run(main())
