"""Hello-world HTTP/1.1 server (keep-alive) on raw asyncio for benches/http/run.sh.

A minimal hand-written parser: reads the request head up to the blank line, honours
Content-Length for a body and `Connection: close`; no chunked requests, no frameworks.
Usage: python3 hello.py [port]   (or PORT=…; default 8080)
"""
import asyncio
import os
import sys

BODY = "你好，世界".encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
CLOSE_RESPONSE = RESPONSE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
MAX_HEAD = 64 * 1024


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # client went away
            except asyncio.LimitOverrunError:
                writer.write(BAD)
                return
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
                writer.write(BAD)
                return
            keep_alive = parts[2] == b"HTTP/1.1"
            length = 0
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep:
                    continue
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"connection":
                    v = value.strip().lower()
                    if v == b"close":
                        keep_alive = False
                    elif v == b"keep-alive":
                        keep_alive = True
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE if keep_alive else CLOSE_RESPONSE)
            if writer.transport.get_write_buffer_size() > 64 * 1024:
                await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, ValueError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "8080"))
    server = await asyncio.start_server(
        handle, "127.0.0.1", port, backlog=4096, limit=MAX_HEAD
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
