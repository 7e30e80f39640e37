/** Thrown by a command to stop with a message and an exit status. */
export class CliExit extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
