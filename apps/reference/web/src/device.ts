/** A readable device name from a User-Agent string: `Chrome 131 on macOS`. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const ua = userAgent;
  const browser =
    match(ua, /Edg(?:e|A|iOS)?\/(\d+)/, 'Edge') ??
    match(ua, /OPR\/(\d+)/, 'Opera') ??
    match(ua, /SamsungBrowser\/(\d+)/, 'Samsung Internet') ??
    match(ua, /Firefox\/(\d+)/, 'Firefox') ??
    match(ua, /FxiOS\/(\d+)/, 'Firefox') ??
    match(ua, /CriOS\/(\d+)/, 'Chrome') ??
    match(ua, /HeadlessChrome\/(\d+)/, 'Headless Chrome') ??
    match(ua, /Chrom(?:e|ium)\/(\d+)/, 'Chrome') ??
    (/Safari\//.test(ua) ? match(ua, /Version\/(\d+)/, 'Safari') : undefined) ??
    match(ua, /^curl\/(\d+)/, 'curl') ??
    match(ua, /^node|undici/i, 'Node.js');
  const os = /iPhone|iPad|iPod/.test(ua)
    ? 'iOS'
    : /Android/.test(ua)
      ? 'Android'
      : /CrOS/.test(ua)
        ? 'ChromeOS'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /Windows/.test(ua)
            ? 'Windows'
            : /Linux/.test(ua)
              ? 'Linux'
              : undefined;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? (os ? `Browser on ${os}` : truncate(ua, 60));
}

function match(ua: string, pattern: RegExp, name: string): string | undefined {
  const found = pattern.exec(ua);
  if (!found) return undefined;
  return found[1] ? `${name} ${found[1]}` : name;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
