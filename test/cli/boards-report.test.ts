/** The rules of `hil boards`: which state, which note, which exit code; and the table that shows them. */
import { describe, expect, it } from 'vitest';
import type { BoardEndpoint } from '../../runner/bench/board-endpoint.ts';
import type { DiscoveredUsbDevice } from '../../runner/bench/usb-discovery.ts';
import { exitCodeForReport, listBoard, withProbe, type BoardListing, type BoardsReport } from '../../runner/cli/boards-report.ts';
import { formatBoardsTable } from '../../runner/cli/boards-table.ts';
import { HilError } from '../../runner/errors.ts';
import type { BoardLeaseInfo } from '../../runner/lease/lease-store.ts';

const s3: BoardEndpoint = {
  boardId: 's3-a', portPath: '1-1.1', chip: 'esp32s3', usb: 'native', linkUrl: 'rfc2217://127.0.0.1:4001', expectedMac: '7c:df:a1:00:00:01',
};
const bridge: BoardEndpoint = {
  boardId: 'esp32-a', portPath: '1-1.2', chip: 'esp32', usb: 'uart-bridge', linkUrl: 'rfc2217://127.0.0.1:4002', expectedMac: '24:0a:c4:00:00:02',
};
const hub: DiscoveredUsbDevice = {
  portPath: '1-1', address: 2, vendorId: 0x0424, productId: 0x2514, manufacturer: null, product: 'USB 2.0 Hub', serialNumber: null, isHub: true, serial: null,
};
const s3Device: DiscoveredUsbDevice = {
  portPath: '1-1.1', address: 5, vendorId: 0x303a, productId: 0x4001, manufacturer: 'Espressif Systems', product: 'Espressif Device',
  serialNumber: '7cdfa1000001', isHub: false, serial: { ttyPath: 'ttyACM0', url: 'rfc2217://127.0.0.1:4001' },
};
const lease: BoardLeaseInfo = {
  boardId: 's3-a', holder: { user: 'alice', host: 'bench1', pid: 4242, command: 'hil run suites/espnow' }, token: 7, acquiredAtMs: 1_000, expiresAtMs: 31_000,
};
const facts = { mac: '7c:df:a1:00:00:01', firmwareVersion: 'v1.24.1', machine: 'Generic ESP32S3 module with ESP32S3' };

function report(boards: BoardListing[], extra: Partial<BoardsReport> = {}): BoardsReport {
  return { bench: { name: 'lab', file: '/b.yaml', kind: 'virtual' }, usb: { available: true }, probed: true, boards, ...extra };
}

describe('listBoard', () => {
  it('matches the USB device by port path (never a hub) and takes its tty, URL and descriptor strings', () => {
    const listing = listBoard(s3, [hub, s3Device], undefined);
    expect(listing).toMatchObject({
      id: 's3-a', portPath: '1-1.1', state: 'idle', lease: null, mac: null, macConfirmed: null, notes: [],
      serial: { tty: 'ttyACM0', url: 'rfc2217://127.0.0.1:4001' },
      usb: { vidPid: '303a:4001', serialNumber: '7cdfa1000001', manufacturer: 'Espressif Systems', product: 'Espressif Device' },
    });
  });

  it('is offline, saying why, when the bench has a USB view and nothing is enumerated at its port path', () => {
    const listing = listBoard(bridge, [hub, s3Device], undefined);
    expect(listing.state).toBe('offline');
    expect(listing.usb).toBeNull();
    expect(listing.serial).toEqual({ tty: null, url: 'rfc2217://127.0.0.1:4002' });
    expect(listing.notes.join()).toMatch(/nothing is enumerated at port path 1-1\.2/);
  });

  it('is idle without USB facts when the bench has no USB view', () => {
    const listing = listBoard(bridge, undefined, undefined);
    expect(listing.state).toBe('idle');
    expect(listing.usb).toBeNull();
    expect(listing.notes).toEqual([]);
  });

  it('is leased, with its holder, when the store says so — even with nothing enumerated (its holder may be power-cycling it)', () => {
    const listing = listBoard(s3, [hub], lease);
    expect(listing.state).toBe('leased');
    expect(listing.lease).toEqual({ user: 'alice', host: 'bench1', pid: 4242, command: 'hil run suites/espnow', token: 7, acquiredAtMs: 1_000, expiresAtMs: 31_000 });
    expect(listing.notes.join()).toMatch(/holder may be power-cycling/);
  });

  it('asks for a MAC in the bench file when it names none', () => {
    expect(listBoard({ ...s3, expectedMac: undefined }, undefined, undefined).notes.join()).toMatch(/names no MAC/);
  });
});

describe('withProbe and the exit code', () => {
  it('records the facts and confirms the MAC; exit 0', () => {
    const probed = withProbe(listBoard(s3, [s3Device], undefined), { kind: 'answered', facts });
    expect(probed).toMatchObject({ mac: facts.mac, macConfirmed: true, firmwareVersion: 'v1.24.1', machine: facts.machine, state: 'idle', notes: [] });
    expect(exitCodeForReport(report([probed]))).toBe(0);
  });

  it('flags a foreign MAC in a note and keeps the board idle; exit 3', () => {
    const probed = withProbe(listBoard(s3, [s3Device], undefined), { kind: 'answered', facts: { ...facts, mac: '7c:df:a1:99:99:99' } });
    expect(probed.state).toBe('idle');
    expect(probed.macConfirmed).toBe(false);
    expect(probed.notes.join()).toMatch(/reports MAC 7c:df:a1:99:99:99 but the bench expects 7c:df:a1:00:00:01: another board is plugged into this port/);
    expect(exitCodeForReport(report([probed]))).toBe(3);
  });

  it('leaves the MAC unconfirmed (null) when the bench names none', () => {
    const probed = withProbe(listBoard({ ...s3, expectedMac: undefined }, undefined, undefined), { kind: 'answered', facts });
    expect(probed.macConfirmed).toBeNull();
    expect(exitCodeForReport(report([probed]))).toBe(0);
  });

  it('shows a board another run took meanwhile as leased, and a board that did not answer as offline with the error; exit 3 only for offline', () => {
    const busy = withProbe(listBoard(s3, undefined, undefined), { kind: 'busy', lease });
    expect(busy).toMatchObject({ state: 'leased', mac: null, lease: { user: 'alice', token: 7 } });
    expect(exitCodeForReport(report([busy]))).toBe(0);
    const silent = withProbe(listBoard(bridge, undefined, undefined), {
      kind: 'failed', error: new HilError('TIMEOUT', 'board did not enter the raw REPL within 5000 ms'),
    });
    expect(silent.state).toBe('offline');
    expect(silent.notes).toEqual(['no answer on rfc2217://127.0.0.1:4002: board did not enter the raw REPL within 5000 ms [TIMEOUT]']);
    expect(exitCodeForReport(report([busy, silent]))).toBe(3);
  });
});

describe('formatBoardsTable', () => {
  it('aligns one line per board, blanks unknown facts, names the holder and ends with the notes', () => {
    const idle = withProbe(listBoard(s3, [s3Device], undefined), { kind: 'answered', facts });
    const held = listBoard({ ...bridge, boardId: 'esp32-a' }, undefined, { ...lease, boardId: 'esp32-a' });
    const text = formatBoardsTable(report([idle, held], { usb: { available: false, problem: 'no USB bus visible' } }), 6_000);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^BOARD\s+PORT PATH\s+CHIP\s+SERIAL ENDPOINT\s+VID:PID\s+USB SERIAL\s+MANUFACTURER\s+PRODUCT\s+MAC\s+FIRMWARE\s+STATE$/);
    expect(lines[1]).toMatch(/^s3-a\s+1-1\.1\s+esp32s3\s+ttyACM0 rfc2217:\/\/127\.0\.0\.1:4001\s+303a:4001\s+7cdfa1000001\s+Espressif Systems\s+Espressif Device\s+7c:df:a1:00:00:01\s+v1\.24\.1\s+idle$/);
    expect(lines[2]).toMatch(/^esp32-a\s+1-1\.2\s+esp32\s+rfc2217:\/\/127\.0\.0\.1:4002\s+-\s+-\s+-\s+-\s+-\s+-\s+leased by alice@bench1 pid 4242, `hil run suites\/espnow`, expires in 25 s$/);
    // Columns line up: every row's STATE starts where the header's does.
    const stateColumn = lines[0]!.indexOf('STATE');
    expect(lines[1]!.indexOf('idle')).toBe(stateColumn);
    expect(lines[2]!.indexOf('leased by')).toBe(stateColumn);
    expect(text).toContain('\nnote: no USB bus visible\n');
  });

  it('marks a foreign MAC and lists per-board notes and the no-probe note', () => {
    const foreign = withProbe(listBoard(s3, [s3Device], undefined), { kind: 'answered', facts: { ...facts, mac: '7c:df:a1:99:99:99' } });
    expect(formatBoardsTable(report([foreign]), 0)).toMatch(/7c:df:a1:99:99:99 \(!\)[^]*\ns3-a: reports MAC 7c:df:a1:99:99:99/);
    expect(formatBoardsTable(report([listBoard(s3, [s3Device], undefined)], { probed: false }), 0)).toContain('note: not probed (--no-probe)');
  });
});
