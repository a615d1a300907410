/**
 * Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (no
 * geckodriver), set up for the rig (DESIGN.md §5): loopback WebRTC works,
 * and Firefox stays offline — every background service that would phone
 * home (updates, telemetry, studies, remote settings, safe browsing,
 * captive-portal and connectivity checks, push, DoH, prefetching, GMP
 * downloads, OCSP) is off or pointed at a closed port on 127.0.0.1.
 *
 *   const browser = await launchFirefox();
 *   const page = await browser.newPage();
 *
 * With `audit`, Firefox runs under `strace -f` recording every connect/
 * sendto/sendmsg/bind of every Firefox process, so a test can prove that
 * only loopback addresses were contacted ({@link readNetworkAudit}).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import puppeteer, { type Browser } from 'puppeteer-core';
import { assertPrivateNetwork, isLoopbackHost } from './net.js';
import { makeTempDir, onCleanup, removeDir } from './process.js';

/** Debian's Firefox ESR (override with BURROW_FIREFOX). */
export function firefoxPath(): string {
  return process.env['BURROW_FIREFOX'] ?? '/usr/bin/firefox-esr';
}

/** True when the Firefox binary is installed. */
export function haveFirefox(): boolean {
  return existsSync(firefoxPath());
}

/** Nothing listens here: anything Firefox would still fetch fails at once, on loopback. */
const NOWHERE = 'http://127.0.0.1:9/';

/**
 * Preferences on top of puppeteer's own (which already turn off the
 * first-run pages, the update check and the crash-restore UI). Grouped by
 * what they keep quiet.
 */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = {
  // WebRTC on loopback (DESIGN.md §5): loopback candidates, real addresses
  // (no mDNS names), and the media permission without a prompt.
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.ice.default_address_only': false,
  'permissions.default.microphone': 1,
  'permissions.default.camera': 1,
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': true,

  // Updates (app, add-ons, search engines, GMP plugins, system add-ons).
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.update.service.enabled': false,
  'app.update.staging.enabled': false,
  'app.update.url': NOWHERE,
  'app.update.url.override': NOWHERE,
  'extensions.update.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': NOWHERE,
  'extensions.getAddons.cache.enabled': false,
  'extensions.getAddons.discovery.api_url': NOWHERE,
  'extensions.blocklist.enabled': false,
  'extensions.pocket.enabled': false,
  'browser.search.update': false,
  'browser.search.geoSpecificDefaults': false,
  'browser.search.suggest.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-manager.url': NOWHERE,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.gmp-widevinecdm.autoupdate': false,
  'media.eme.enabled': false,

  // Telemetry, health report, crash reports, coverage, ping centre.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': NOWHERE,
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'toolkit.telemetry.coverage.opt-out': true,
  'toolkit.coverage.opt-out': true,
  'toolkit.coverage.endpoint.base': NOWHERE,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'browser.tabs.crashReporting.sendReport': false,
  'breakpad.reportURL': '',
  'browser.ping-centre.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,

  // Studies and experiments (Normandy, Nimbus, Shield).
  'app.normandy.enabled': false,
  'app.normandy.api_url': NOWHERE,
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rollouts.enabled': false,

  // Remote settings (honoured by the ESR build only with MOZ_REMOTE_SETTINGS_DEVTOOLS=1 in the env).
  'services.settings.server': `${NOWHERE}v1`,
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,

  // Safe browsing.
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.passwords.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': NOWHERE,
  'browser.safebrowsing.provider.google4.updateURL': NOWHERE,
  'browser.safebrowsing.provider.mozilla.updateURL': NOWHERE,

  // Captive portal, connectivity and network-state probes.
  'network.captive-portal-service.enabled': false,
  'captivedetect.canonicalURL': NOWHERE,
  'network.connectivity-service.enabled': false,
  'network.connectivity-service.IPv4.url': NOWHERE,
  'network.connectivity-service.IPv6.url': NOWHERE,

  // Push, sync, accounts, region/geo lookups, new-tab content.
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'identity.fxaccounts.enabled': false,
  'services.sync.engine.addons': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'geo.enabled': false,
  'geo.provider.network.url': '',
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.topsites': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.system.topstories': false,
  'browser.newtabpage.activity-stream.feeds.discoverystreamfeed': false,
  'browser.newtabpage.activity-stream.discoverystream.enabled': false,
  'browser.newtabpage.activity-stream.showSponsored': false,
  'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
  'browser.topsites.contile.enabled': false,
  'browser.urlbar.quicksuggest.enabled': false,
  'browser.urlbar.suggest.quicksuggest.sponsored': false,
  'browser.urlbar.suggest.quicksuggest.nonsponsored': false,
  'browser.discovery.enabled': false,
  'browser.translations.enable': false,
  'browser.ml.enable': false,
  'extensions.htmlaboutaddons.recommendations.enabled': false,

  // DNS-over-HTTPS, prefetching, speculative connections, OCSP.
  'network.trr.mode': 5,
  'doh-rollout.disable-heuristics': true,
  'network.dns.disablePrefetch': true,
  'network.dns.disablePrefetchFromHTTPS': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.http.speculative-parallel-limit': 0,
  'browser.urlbar.speculativeConnect.enabled': false,
  'browser.places.speculativeConnect.enabled': false,
  'security.OCSP.enabled': 0,
  'security.certerrors.mitm.priming.enabled': false,
  'network.proxy.type': 0,

  // Downloads go straight to the profile's download folder (set per launch), no dialog.
  'browser.download.folderList': 2,
  'browser.download.useDownloadDir': true,
  'browser.download.always_ask_before_handling_new_types': false,
  'browser.download.manager.showWhenStarting': false,
  'browser.download.alwaysOpenPanel': false,
  'browser.download.panel.shown': true,
  'browser.download.start_downloads_in_tmp_dir': false,
};

/**
 * Environment for Firefox: MOZ_REMOTE_SETTINGS_DEVTOOLS=1 makes the ESR
 * build honour the local `services.settings.server` (without it, it keeps
 * resolving its settings host); no crash reporter.
 */
export const FIREFOX_ENV: Readonly<Record<string, string>> = {
  MOZ_REMOTE_SETTINGS_DEVTOOLS: '1',
  MOZ_CRASHREPORTER_DISABLE: '1',
  MOZ_DISABLE_AUTO_SAFE_MODE: '1',
};

export interface LaunchFirefoxOptions {
  /** Extra preferences, applied after {@link FIREFOX_PREFS}. */
  prefs?: Record<string, string | number | boolean>;
  /** Where downloads land (default: a fresh temp dir). */
  downloadDir?: string;
  /**
   * Record every network syscall of every Firefox process (strace -f) in
   * this file; read it with {@link readNetworkAudit}. Needs strace.
   */
  auditFile?: string;
  /**
   * Start Firefox with `-remote-allow-system-access`, so
   * {@link answerFilePicker} can stand in for the file picker (needed to
   * pick a folder: WebDriver BiDi's input.setFiles takes files only).
   */
  systemAccess?: boolean;
  /** Accept self-signed certificates (WebDriver's acceptInsecureCerts), e.g. a test gateway's TLS. */
  acceptInsecureCerts?: boolean;
}

export interface FirefoxBrowser {
  readonly browser: Browser;
  /** Where this Firefox saves downloads. */
  readonly downloadDir: string;
  close(): Promise<void>;
}

/**
 * A shell script in `dir` that runs `binary` under `strace -f`, recording
 * every connect/sendto/sendmsg/sendmmsg of it and all its children in
 * `auditFile` (read it with {@link readNetworkAudit}). Use it as a
 * browser's executable path (Firefox: `launchFirefox({ auditFile })`;
 * Chromium: BURROW_CHROMIUM).
 */
export function auditedExecutable(binary: string, auditFile: string, dir: string): string {
  if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) throw new Error('the network audit needs strace (apt-get install strace)');
  const wrapper = join(dir, `${binary.split('/').at(-1)}-audited.sh`);
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      // -f: every process; -qq: no attach/exit chatter; --seccomp-bpf: stop only on these syscalls.
      `exec strace -f -qq --seccomp-bpf -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o '${auditFile}' '${binary}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/**
 * Launch Debian Firefox ESR headless with a fresh profile, through
 * puppeteer-core over WebDriver BiDi. Closed by `cleanup()` too.
 */
export async function launchFirefox(opts: LaunchFirefoxOptions = {}): Promise<FirefoxBrowser> {
  assertPrivateNetwork();
  if (!haveFirefox()) throw new Error(`${firefoxPath()} is missing: apt-get install firefox-esr`);
  const dir = makeTempDir('burrow-firefox-');
  const downloadDir = opts.downloadDir ?? join(dir, 'downloads');
  mkdirSync(downloadDir, { recursive: true });
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: opts.auditFile ? auditedExecutable(firefoxPath(), opts.auditFile, dir) : firefoxPath(),
    headless: true,
    userDataDir: join(dir, 'profile'),
    timeout: 60_000,
    protocolTimeout: 300_000,
    dumpio: Boolean(process.env['BURROW_FIREFOX_DUMPIO']),
    defaultViewport: null,
    args: opts.systemAccess ? ['-remote-allow-system-access'] : [],
    acceptInsecureCerts: opts.acceptInsecureCerts ?? false,
    env: { ...process.env, ...FIREFOX_ENV },
    extraPrefsFirefox: { ...FIREFOX_PREFS, 'browser.download.dir': downloadDir, ...opts.prefs },
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await browser.close().catch(() => { /* best-effort teardown: it may be closed already */ });
      browser.process()?.kill('SIGKILL');
      removeDir(dir);
    })());
  const unregister = onCleanup(close);
  browser.once('disconnected', () => unregister());
  return { browser, downloadDir, close };
}

/** Raw WebDriver BiDi commands on puppeteer's connection. */
interface BidiSend {
  send(method: string, params: Record<string, unknown>): Promise<{ result: Record<string, unknown> }>;
}

/**
 * The file picker as a person would use it, for Firefox launched with
 * `systemAccess`: the next picker a page opens answers with `path` — a
 * file, or a folder for an `<input webkitdirectory>`, whose files Firefox
 * then reads itself, relative paths and all. Installs (once) a stand-in
 * for `@mozilla.org/filepicker;1` in the parent process, the way
 * Firefox's own tests mock the picker; with nothing queued it cancels.
 */
export async function answerFilePicker(browser: Browser, path: string): Promise<void> {
  const bidi = (browser as unknown as { connection: BidiSend }).connection;
  const tree = await bidi.send('browsingContext.getTree', { 'moz:scope': 'chrome', maxDepth: 0 });
  const contexts = tree.result['contexts'] as { context: string }[] | undefined;
  const chrome = contexts?.[0]?.context;
  if (!chrome) throw new Error('answerFilePicker: no chrome context (launch Firefox with systemAccess: true)');
  const script = `(() => {
    const g = Services;
    g.__burrowPicks ??= [];
    g.__burrowPicks.push(${JSON.stringify(path)});
    if (g.__burrowPicker) return 'queued';
    const nsFile = (p) => { const f = Cc['@mozilla.org/file/local;1'].createInstance(Ci.nsIFile); f.initWithPath(p); return f; };
    const enumerate = (items) => {
      let i = 0;
      return { hasMoreElements: () => i < items.length, getNext: () => items[i++], [Symbol.iterator]: function* () { yield* items; },
               QueryInterface: ChromeUtils.generateQI(['nsISimpleEnumerator']) };
    };
    const factory = {
      createInstance(iid) {
        let picked = null;
        const picker = {
          init(parent, title, mode) { this.mode = mode; }, appendFilter() {}, appendFilters() {}, appendRawFilter() {}, isModeSupported: () => true,
          defaultString: '', defaultExtension: '', filterIndex: 0, displayDirectory: null, displaySpecialDirectory: '',
          addToRecentDocs: false, okButtonLabel: '', capture: 0,
          get file() { return picked && nsFile(picked); },
          get fileURL() { return picked && Services.io.newFileURI(nsFile(picked)); },
          get files() { return enumerate(picked ? [nsFile(picked)] : []); },
          open(done) {
            picked = g.__burrowPicks.shift() ?? null;
            if (picked && this.mode === Ci.nsIFilePicker.modeGetFolder) g.__burrowFolders++;
            Services.tm.dispatchToMainThread(() => done.done(picked ? Ci.nsIFilePicker.returnOK : Ci.nsIFilePicker.returnCancel));
          },
          QueryInterface: ChromeUtils.generateQI(['nsIFilePicker']),
        };
        return picker.QueryInterface(iid);
      },
      QueryInterface: ChromeUtils.generateQI(['nsIFactory']),
    };
    Components.manager.QueryInterface(Ci.nsIComponentRegistrar)
      .registerFactory(Services.uuid.generateUUID(), 'Burrow test file picker', '@mozilla.org/filepicker;1', factory);
    g.__burrowPicker = factory;
    // For a folder Firefox then asks "Upload all files from …?" in a tab-modal
    // confirm (not a WebDriver user prompt): answer Upload for folders we picked.
    g.__burrowFolders = 0;
    const { PromptParent } = ChromeUtils.importESModule('resource:///actors/PromptParent.sys.mjs');
    const title = Services.strings.createBundle('chrome://global/locale/dom/dom.properties').GetStringFromName('FolderUploadPrompt.title');
    const open = PromptParent.prototype.openPromptWithTabDialogBox;
    PromptParent.prototype.openPromptWithTabDialogBox = function (args) {
      if (g.__burrowFolders > 0 && args.promptType === 'confirmEx' && args.title === title) {
        g.__burrowFolders--;
        return Promise.resolve({ ...args, buttonNumClicked: 0, ok: true, promptAborted: false });
      }
      return open.call(this, args);
    };
    return 'installed';
  })()`;
  const r = await bidi.send('script.evaluate', { expression: script, target: { context: chrome }, awaitPromise: false });
  if (r.result['type'] === 'exception') throw new Error(`answerFilePicker: ${JSON.stringify(r.result['exceptionDetails'])}`);
}

/** One network syscall from a strace audit. */
export interface NetworkCall {
  readonly pid: number;
  readonly syscall: string;
  /** `AF_INET 127.0.0.1:4000`, `AF_INET6 [::1]:53`, `AF_UNIX "/path"`, `AF_NETLINK`, or `(connected socket)`. */
  readonly address: string;
  readonly family: 'inet' | 'inet6' | 'unix' | 'netlink' | 'none' | 'other';
  /** The IP for inet/inet6. */
  readonly ip?: string;
  /** What the kernel answered, e.g. `0`, `1200` or `-1 ENETUNREACH (Network is unreachable)`. */
  readonly result: string;
  readonly line: string;
}

/**
 * Parse a strace audit (see {@link auditedExecutable}): every connect/
 * sendto/sendmsg with the address it named and the kernel's answer. Calls
 * on a connected socket name no address (`family: 'none'`): their peer was
 * named by the socket's earlier connect, which is in the list too.
 */
export function readNetworkAudit(auditFile: string): NetworkCall[] {
  const calls: NetworkCall[] = [];
  /** Calls strace split across lines ("<unfinished ...>" … "<... connect resumed>"), by pid. */
  const pending = new Map<number, { call: Omit<NetworkCall, 'result'>; index: number }>();
  for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
    const resumed = /^(\d+)\s+<\.\.\. (connect|sendto|sendmsg|sendmmsg) resumed>.*\)\s+=\s+(.*)$/.exec(line);
    if (resumed) {
      const p = pending.get(Number(resumed[1]));
      if (p && p.call.syscall === resumed[2]) {
        calls[p.index] = { ...p.call, result: resumed[3]!.trim() };
        pending.delete(Number(resumed[1]));
      }
      continue;
    }
    const m = /^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\(/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const syscall = m[2]!;
    const inet = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(line);
    const inet6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
    let call: Omit<NetworkCall, 'result'>;
    if (inet) call = { pid, syscall, family: 'inet', ip: inet[2]!, address: `AF_INET ${inet[2]}:${inet[1]}`, line };
    else if (inet6) call = { pid, syscall, family: 'inet6', ip: inet6[2]!, address: `AF_INET6 [${inet6[2]}]:${inet6[1]}`, line };
    else if (/sa_family=AF_UNIX/.test(line)) call = { pid, syscall, family: 'unix', address: `AF_UNIX ${/sun_path=(@?"[^"]*")/.exec(line)?.[1] ?? ''}`, line };
    else if (/sa_family=AF_NETLINK/.test(line)) call = { pid, syscall, family: 'netlink', address: 'AF_NETLINK', line };
    else if (/sa_family=/.test(line)) call = { pid, syscall, family: 'other', address: /sa_family=(\w+)/.exec(line)![1]!, line };
    else call = { pid, syscall, family: 'none', address: '(connected socket)', line };
    const done = /\)\s+=\s+(.*)$/.exec(line);
    if (done && !line.endsWith('<unfinished ...>')) calls.push({ ...call, result: done[1]!.trim() });
    else {
      pending.set(pid, { call, index: calls.length });
      calls.push({ ...call, result: '?' });
    }
  }
  return calls;
}

/** The audited calls that named an IP address outside loopback (should be none). */
export function nonLoopbackCalls(calls: readonly NetworkCall[]): NetworkCall[] {
  return calls.filter((c) => (c.family === 'inet' || c.family === 'inet6') && !isLoopbackHost(c.ip!) && c.ip !== '::ffff:127.0.0.1');
}
