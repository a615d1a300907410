/** The welcome's fixed keys, as the Python server's operator flags set them. */

/** The welcome's optional keys (all clients print `motd`; `error` makes them fail). */
export interface WelcomeOptions {
  readonly motd?: string;
  /** `current_cli_version`: older CLIs print an upgrade hint. */
  readonly currentCliVersion?: string;
  /** Every client fails with this message (server disabled). */
  readonly error?: string;
}

/** The welcome object for `options` (only the keys that are set). */
export function welcomeKeys(options: WelcomeOptions = {}): Record<string, string> {
  const welcome: Record<string, string> = {};
  if (options.motd !== undefined) welcome['motd'] = options.motd;
  if (options.currentCliVersion !== undefined) welcome['current_cli_version'] = options.currentCliVersion;
  if (options.error !== undefined) welcome['error'] = options.error;
  return welcome;
}
