import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventBus, type Unsubscribe } from '../events.ts';
import { msg, UserError, errorMessage } from '../util/errors.ts';
import { fileTimestamp, nowMs } from '../util/time.ts';
import { listBackups, writeBackup } from './backups.ts';
import { latestVersion, loadMigrations, type Migration } from './migrations.ts';
import type { Statement } from 'better-sqlite3';
import { sqlite, type Database } from './sqlite.ts';

export const STORE_DIR_NAME = '.rvc-studio';
export const STORE_FILE_NAME = 'studio.db';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const USER_VERSION_OFFSET = 60;
/** How long to wait for another process's write lock; RVC_STUDIO_BUSY_TIMEOUT_MS shortens it (tests). */
const BUSY_TIMEOUT_MS = Number(process.env.RVC_STUDIO_BUSY_TIMEOUT_MS) > 0 ? Number(process.env.RVC_STUDIO_BUSY_TIMEOUT_MS) : 5000;

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';
export type LogModule = 'trainer' | 'inference' | 'system';

export interface OpenStoreOptions {
  /** Folder of NNNN_*.sql migrations; tests point it at synthetic schema histories. */
  schemaDir?: string;
  /** Open without creating or migrating: used by read-only views of untrusted workspaces. */
  readonly?: boolean;
  /** How long to wait for another process's lock before giving up with a "busy" error. */
  busyTimeoutMs?: number;
}

export function storeDirOf(workspaceDir: string): string {
  return path.join(path.resolve(workspaceDir), STORE_DIR_NAME);
}

export function storePathOf(workspaceDir: string): string {
  return path.join(storeDirOf(workspaceDir), STORE_FILE_NAME);
}

/** The database was written by a newer RVC Studio; it is left exactly as it is. */
export class NewerDatabaseError extends UserError {
  constructor(file: string, found: number, known: number) {
    super(
      msg`${file} was created by a newer RVC Studio (schema ${found} > ${known}); update RVC Studio to open it. The file was not changed.`,
      'db-newer',
    );
  }
}

export class CorruptDatabaseError extends UserError {
  constructor(file: string, detail: string, newestBackup: string | undefined) {
    super(
      newestBackup
        ? msg`${file} is not a readable RVC Studio database (${detail}). The newest backup is ${newestBackup}: run "rvc-studio db restore ${newestBackup}" to bring it back.`
        : msg`${file} is not a readable RVC Studio database (${detail}). There is no backup to restore; move the file away to start a new store.`,
      'db-corrupt',
    );
  }
}

/**
 * One workspace's SQLite store (.rvc-studio/studio.db). Opening it applies pending migrations, after
 * backing up a non-empty database, and refuses databases from a newer version or ones that are
 * damaged, without writing to them.
 */
export class Store {
  readonly events = new EventBus();
  /** Only the repositories in src/core/store reach the connection, through databaseOf(). */
  readonly workspaceDir: string;
  readonly storeDir: string;
  readonly dbPath: string;
  private readonly db: Database;
  readonly schemaVersion: number;
  readonly busyTimeoutMs: number;
  private closed = false;

  private constructor(workspaceDir: string, db: Database, schemaVersion: number, busyTimeoutMs: number) {
    this.workspaceDir = path.resolve(workspaceDir);
    this.storeDir = storeDirOf(workspaceDir);
    this.dbPath = storePathOf(workspaceDir);
    this.db = db;
    connections.set(this, db);
    this.schemaVersion = schemaVersion;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  static open(workspaceDir: string, options: OpenStoreOptions = {}): Store {
    if (!fs.existsSync(workspaceDir) || !fs.statSync(workspaceDir).isDirectory()) {
      throw new UserError(msg`The workspace folder ${workspaceDir} does not exist.`, 'no-workspace');
    }
    const storeDir = storeDirOf(workspaceDir);
    const dbPath = storePathOf(workspaceDir);
    const migrations = loadMigrations(options.schemaDir);
    const known = latestVersion(migrations);
    const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;

    refuseUnusableFileWithoutOpening(dbPath, storeDir, known);
    if (options.readonly) {
      if (!fs.existsSync(dbPath))
        throw new UserError(msg`${dbPath} does not exist yet; run "rvc-studio init" in a trusted workspace.`, 'no-store');
      const db = openConnection(dbPath, storeDir, { readonly: true, busyTimeoutMs });
      const version = readUserVersion(db, dbPath, storeDir);
      if (version > known) {
        db.close();
        throw new NewerDatabaseError(dbPath, version, known);
      }
      return new Store(workspaceDir, db, version, busyTimeoutMs);
    }

    fs.mkdirSync(storeDir, { recursive: true });
    const db = openConnection(dbPath, storeDir, { readonly: false, busyTimeoutMs });
    try {
      const version = migrate(db, dbPath, storeDir, migrations);
      return new Store(workspaceDir, db, version, busyTimeoutMs);
    } catch (error) {
      db.close();
      if (isBusy(error)) throw busyError(dbPath, busyTimeoutMs);
      throw error;
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /**
   * One IMMEDIATE transaction: all of it or nothing. A full disk or a lock held too long rolls it
   * back and surfaces as a UserError that says so (never a half-written batch).
   */
  transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate();
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** A backup of this store in .rvc-studio/backups/ (the newest 5 kept); returns its path. */
  backup(): string {
    return writeBackup(this.db, this.storeDir, this.schemaVersion);
  }

  log(level: LogLevel, module: LogModule, message: string): void {
    try {
      this.db
        .prepare('INSERT INTO system_logs (level, module, message, created_at) VALUES (?, ?, ?, ?)')
        .run(level, module, message, nowMs());
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** SQLite's codes for a full disk, an I/O fault and a busy lock, as one actionable line each. */
  explain(error: unknown): unknown {
    if (isBusy(error)) return busyError(this.dbPath, this.busyTimeoutMs);
    const code = (error as { code?: unknown } | null)?.code;
    // ENOSPC is SQLITE_FULL; a file-size limit (EFBIG) or a failing disk is SQLITE_IOERR_WRITE.
    if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE') {
      return new UserError(
        msg`Could not write ${this.dbPath} (${code === 'SQLITE_FULL' ? 'the disk is full' : 'the disk is full or a write failed'}); nothing of this change was saved. Free some space and try again.`,
        'disk-full',
        { cause: error },
      );
    }
    if (typeof code === 'string' && code.startsWith('SQLITE_IOERR')) {
      return new UserError(msg`Could not use ${this.dbPath} (disk I/O error, ${code}); nothing of this change was saved.`, 'db-io', {
        cause: error,
      });
    }
    return error;
  }

  /**
   * Emits `externalChange` when another process commits to this database. SQLite bumps
   * `PRAGMA data_version` for commits by other connections only; a watcher on the store folder
   * (where the WAL file changes) tells us when to look, so nothing polls in a loop.
   */
  watchExternalChanges(): Unsubscribe {
    let lastVersion = this.dataVersion();
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      timer = undefined;
      if (this.closed) return;
      const version = this.dataVersion();
      if (version !== lastVersion) {
        lastVersion = version;
        this.events.emit('externalChange', {});
      }
    };
    const watcher = fs.watch(this.storeDir, { persistent: false }, () => {
      timer ??= setTimeout(check, 50);
    });
    watcher.on('error', () => watcher.close());
    return {
      dispose: () => {
        watcher.close();
        if (timer) clearTimeout(timer);
      },
    };
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}

const connections = new WeakMap<Store, Database>();

/**
 * The SQLite connection behind a store, for the repositories in src/core/store (and tests that
 * inspect rows): everything else goes through a repository, which test/unit/store/sqlOwnership
 * checks.
 */
export function databaseOf(store: Store): Database {
  const db = connections.get(store);
  if (!db) throw new Error('not a store');
  return db;
}

const statementCaches = new WeakMap<Database, Map<string, Statement>>();

/**
 * One prepared statement per store and SQL text (pluck'ed ones apart), prepared on first use: the
 * repositories call it where they used to prepare on every call.
 */
export function prepared(store: Store, sql: string, { pluck = false }: { pluck?: boolean } = {}): Statement {
  const db = databaseOf(store);
  let cache = statementCaches.get(db);
  if (!cache) statementCaches.set(db, (cache = new Map()));
  const key = pluck ? `pluck:${sql}` : sql;
  let statement = cache.get(key);
  if (!statement) {
    statement = db.prepare(sql);
    if (pluck) statement.pluck();
    cache.set(key, statement);
  }
  return statement;
}

function newestBackupPath(storeDir: string): string | undefined {
  return listBackups(storeDir)[0]?.path;
}

/**
 * Checks the header bytes before SQLite touches the file: opening read-write and switching to WAL
 * would rewrite the header, and a newer or foreign file must stay byte-for-byte as it was.
 */
function refuseUnusableFileWithoutOpening(dbPath: string, storeDir: string, known: number): void {
  if (!fs.existsSync(dbPath)) return;
  let header: Buffer;
  try {
    const fd = fs.openSync(dbPath, 'r');
    try {
      header = Buffer.alloc(100);
      const read = fs.readSync(fd, header, 0, 100, 0);
      header = header.subarray(0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new CorruptDatabaseError(dbPath, `cannot read it: ${errorMessage(error)}`, newestBackupPath(storeDir));
  }
  if (header.length === 0) return; // an empty file is a database SQLite has not written to yet
  if (header.length < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new CorruptDatabaseError(dbPath, 'its header is not an SQLite header', newestBackupPath(storeDir));
  }
  const version = header.readUInt32BE(USER_VERSION_OFFSET);
  if (version > known) throw new NewerDatabaseError(dbPath, version, known);
}

function openConnection(
  dbPath: string,
  storeDir: string,
  { readonly, busyTimeoutMs }: { readonly: boolean; busyTimeoutMs: number },
): Database {
  const Sqlite = sqlite();
  let db: Database;
  try {
    db = new Sqlite(dbPath, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
  } catch (error) {
    throw new CorruptDatabaseError(dbPath, errorMessage(error), newestBackupPath(storeDir));
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    if (!readonly) {
      retryWhileBusy(() => db.pragma('journal_mode = WAL'), busyTimeoutMs);
      db.pragma('synchronous = NORMAL');
    }
    // Touch the schema so a damaged file fails here, with a message, rather than on first use.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (error) {
    db.close();
    if (isBusy(error)) {
      throw busyError(dbPath, busyTimeoutMs);
    }
    throw new CorruptDatabaseError(dbPath, errorMessage(error), newestBackupPath(storeDir));
  }
  return db;
}

/**
 * Switching a new file to WAL needs an exclusive lock. When two processes create the store at the
 * same moment, SQLite answers one of them SQLITE_BUSY at once, without calling the busy handler (to
 * avoid a deadlock between two readers both wanting to write), so waiting is up to us.
 */
function retryWhileBusy<T>(work: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      sleepSync(Math.min(5 * 2 ** attempt, 100));
    }
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function readUserVersion(db: Database, dbPath: string, storeDir: string): number {
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    throw new CorruptDatabaseError(dbPath, errorMessage(error), newestBackupPath(storeDir));
  }
}

export function busyError(dbPath: string, waitedMs: number): UserError {
  return new UserError(
    msg`${dbPath} is busy: another process (a second VS Code window or an rvc-studio command) held its lock for more than ${waitedMs / 1000} s. Try again when it is done.`,
    'db-busy',
  );
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function hasUserTables(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' LIMIT 1").get() !== undefined;
}

/**
 * Applies every pending migration, each in its own IMMEDIATE transaction that re-reads the version
 * first: two processes opening an old store at once then migrate it exactly once.
 */
function migrate(db: Database, dbPath: string, storeDir: string, migrations: Migration[]): number {
  const known = latestVersion(migrations);
  let version = readUserVersion(db, dbPath, storeDir);
  if (version > known) throw new NewerDatabaseError(dbPath, version, known);
  if (version === known) return version;

  if (version > 0 || hasUserTables(db)) {
    writeBackup(db, storeDir, version);
  }
  for (const migration of migrations) {
    if (migration.version <= version) continue;
    const apply = db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= migration.version) return current;
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw new Error(`Migration ${migration.name} failed: ${errorMessage(error)}`, { cause: error });
      }
      db.pragma(`user_version = ${migration.version}`);
      return migration.version;
    });
    version = apply.immediate();
  }
  return version;
}

/**
 * Puts a backup back as the workspace's database. The current file is never lost: a readable one is
 * backed up first, an unreadable one is moved aside as studio.db.corrupt-{timestamp}.
 */
export function restoreBackup(
  workspaceDir: string,
  backupFile: string,
  options: OpenStoreOptions = {},
): { restored: string; previous?: string } {
  const storeDir = storeDirOf(workspaceDir);
  const dbPath = storePathOf(workspaceDir);
  const source = path.resolve(backupFile);
  if (!fs.existsSync(source)) throw new UserError(msg`The backup ${source} does not exist.`, 'no-backup');
  const known = latestVersion(loadMigrations(options.schemaDir));
  const Sqlite = sqlite();
  let backupVersion: number;
  try {
    const probe = new Sqlite(source, { readonly: true, fileMustExist: true });
    try {
      const check = probe.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
      backupVersion = probe.pragma('user_version', { simple: true }) as number;
    } finally {
      probe.close();
    }
  } catch (error) {
    throw new UserError(msg`${source} is not a usable RVC Studio backup (${errorMessage(error)}).`, 'bad-backup');
  }
  if (backupVersion > known) throw new NewerDatabaseError(source, backupVersion, known);

  fs.mkdirSync(storeDir, { recursive: true });
  let previous: string | undefined;
  if (fs.existsSync(dbPath) && fs.statSync(dbPath).size > 0) {
    try {
      const current = Store.open(workspaceDir, options);
      try {
        databaseOf(current).pragma('wal_checkpoint(TRUNCATE)');
        previous = current.backup();
      } finally {
        current.close();
      }
    } catch (error) {
      if (!(error instanceof CorruptDatabaseError)) throw error;
      previous = `${dbPath}.corrupt-${fileTimestamp()}`;
      fs.renameSync(dbPath, previous);
    }
  }
  const incoming = `${dbPath}.restoring`;
  fs.copyFileSync(source, incoming);
  for (const sidecar of ['-wal', '-shm']) fs.rmSync(dbPath + sidecar, { force: true });
  fs.renameSync(incoming, dbPath);
  return previous === undefined ? { restored: source } : { restored: source, previous };
}
