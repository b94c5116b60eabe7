/**
 * The host's address as boards on the network would reach it, for tests that call
 * `multitest.get_network_ip()` (§6.2 of /work/shared/reference/micropython-host-protocols.md): the local
 * address of a UDP socket "connected" towards a public address (connecting a UDP socket sends nothing),
 * else `127.0.0.1`.
 */
import { createSocket } from 'node:dgram';

/** Resolves the host IP; never rejects. */
export function detectHostIp(): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (ip: string): void => {
      socket.close();
      resolve(ip);
    };
    socket.once('error', () => done('127.0.0.1'));
    socket.connect(80, '8.8.8.8', () => {
      try {
        done(socket.address().address);
      } catch {
        done('127.0.0.1');
      }
    });
  });
}
