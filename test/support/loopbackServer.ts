import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback HTTP server for download tests: 127.0.0.1 only, a bounded number of requests (the
 * test fails rather than loop), and every socket destroyed on close so a stalled answer never keeps
 * mocha alive.
 */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse, requestNumber: number) => void;

export interface LoopbackServer {
  url: string;
  requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function startLoopbackServer(routes: Record<string, Route>, maxRequests = 50): Promise<LoopbackServer> {
  const requests: LoopbackServer['requests'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push({ path: pathname, range: req.headers.range });
    if (requests.length > maxRequests) {
      res.writeHead(429).end('too many requests for one test');
      return;
    }
    const route = routes[pathname];
    if (!route) {
      res.writeHead(404, 'Not Found').end('no such file');
      return;
    }
    route(req, res, requests.length);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Serves `body`, honouring `Range: bytes=N-` with 206; `cutAt` ends the first full answer early by destroying the socket. */
export function serveBytes(body: Uint8Array, options: { cutAt?: number; stallAt?: number } = {}): Route {
  let cut = false;
  return (req, res) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > body.length) {
      res.writeHead(416).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-length': body.length - start,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
    };
    if (range) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (options.stallAt !== undefined) {
      res.write(body.subarray(start, Math.max(start, options.stallAt)));
      return; // never ends: a stalled server
    }
    if (options.cutAt !== undefined && !cut && start === 0) {
      cut = true;
      res.write(body.subarray(0, options.cutAt), () => res.socket?.destroy());
      return;
    }
    res.end(body.subarray(start));
  };
}

export function redirectTo(location: string, status = 302): Route {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}
