/**
 * What the telephony core needs to know about users and numbers. The core never
 * imports provisioning: the composition root wires an implementation over
 * `src/modules/provisioning/sip-directory.ts`; tests use `MemoryDirectory`.
 */

/** A user's SIP credentials: HA1 digests only (RULES §4.4), never the password. */
export interface SipCredentials {
  readonly userId: string;
  readonly clientId: string;
  readonly extension: string;
  readonly username: string;
  /** The realm the HA1 values were computed for. */
  readonly realm: string;
  /** H(username:realm:password) with MD5. */
  readonly ha1Md5: string;
  /** H(username:realm:password) with SHA-256. */
  readonly ha1Sha256: string;
}

export interface DirectoryUser {
  readonly userId: string;
  readonly clientId: string;
  readonly extension: string;
  readonly username: string;
}

/** Where a public number (DID) rings. */
export interface DidTarget {
  readonly clientId: string;
  /** The user it rings, when the number is assigned to one. */
  readonly userId: string | null;
}

export interface Directory {
  /** The credentials of a SIP username (case-sensitive), null when unknown or disabled. */
  findSipCredentials(username: string): Promise<SipCredentials | null>;
  /** The user with that extension in the client, null when none. */
  findUserByExtension(clientId: string, extension: string): Promise<DirectoryUser | null>;
  /** The client (and user) a public E.164 number belongs to, null when not ours. */
  findDidTarget(e164: string): Promise<DidTarget | null>;
}

/** An in-memory `Directory` for tests and interop runs. */
export class MemoryDirectory implements Directory {
  private readonly users = new Map<string, SipCredentials>();
  private readonly dids = new Map<string, DidTarget>();

  addUser(credentials: SipCredentials): this {
    this.users.set(credentials.username, credentials);
    return this;
  }

  removeUser(username: string): this {
    this.users.delete(username);
    return this;
  }

  addDid(e164: string, target: DidTarget): this {
    this.dids.set(e164, target);
    return this;
  }

  findSipCredentials(username: string): Promise<SipCredentials | null> {
    return Promise.resolve(this.users.get(username) ?? null);
  }

  findUserByExtension(clientId: string, extension: string): Promise<DirectoryUser | null> {
    for (const u of this.users.values()) {
      if (u.clientId === clientId && u.extension === extension) {
        return Promise.resolve({ userId: u.userId, clientId: u.clientId, extension: u.extension, username: u.username });
      }
    }
    return Promise.resolve(null);
  }

  findDidTarget(e164: string): Promise<DidTarget | null> {
    return Promise.resolve(this.dids.get(e164) ?? null);
  }
}
