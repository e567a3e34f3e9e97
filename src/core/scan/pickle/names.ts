// How a pickle's global names resolve, as CPython's Unpickler.find_class resolves them, and which
// are allowed. Python 2 names (protocol < 3) are mapped first (_compat_pickle), so `commands
// getoutput` is judged as `subprocess getoutput`; the comparison is exact on the mapped
// `module.name`, so "builtins" is never a prefix that lets `builtins print.__class__...` through.

/** _compat_pickle.IMPORT_MAPPING, the entries that matter for judging (the rest map to themselves or to modules no allowlist names). */
const IMPORT_MAPPING: Readonly<Record<string, string>> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  SocketServer: 'socketserver',
  ConfigParser: 'configparser',
  repr: 'reprlib',
  FileDialog: 'tkinter.filedialog',
  Tkinter: 'tkinter',
  cPickle: 'pickle',
  _elementtree: 'xml.etree.ElementTree',
  commands: 'subprocess',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  whichdb: 'dbm',
  anydbm: 'dbm',
  httplib: 'http.client',
  urllib2: 'urllib.request',
  urlparse: 'urllib.parse',
  HTMLParser: 'html.parser',
  Cookie: 'http.cookies',
  cookielib: 'http.cookiejar',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  thread: '_thread',
  dummy_thread: '_dummy_thread',
  cStringIO: 'io',
  StringIO: 'io',
  exceptions: 'builtins',
};

/** _compat_pickle.NAME_MAPPING: (module, name) pairs that move to another module or name. */
const NAME_MAPPING: Readonly<Record<string, [string, string]>> = {
  '__builtin__ xrange': ['builtins', 'range'],
  '__builtin__ reduce': ['functools', 'reduce'],
  '__builtin__ intern': ['sys', 'intern'],
  '__builtin__ unichr': ['builtins', 'chr'],
  '__builtin__ unicode': ['builtins', 'str'],
  '__builtin__ long': ['builtins', 'int'],
  'itertools izip': ['builtins', 'zip'],
  'itertools imap': ['builtins', 'map'],
  'itertools ifilter': ['builtins', 'filter'],
  'itertools ifilterfalse': ['itertools', 'filterfalse'],
  'itertools izip_longest': ['itertools', 'zip_longest'],
  'UserDict IterableUserDict': ['collections', 'UserDict'],
  'UserList UserList': ['collections', 'UserList'],
  'UserString UserString': ['collections', 'UserString'],
  'whichdb whichdb': ['dbm', 'whichdb'],
  '_socket fromfd': ['socket', 'fromfd'],
  '_multiprocessing Connection': ['multiprocessing.connection', 'Connection'],
  'multiprocessing.process Process': ['multiprocessing.context', 'Process'],
  'multiprocessing.forking Popen': ['multiprocessing.popen_fork', 'Popen'],
  'urllib ContentTooShortError': ['urllib.error', 'ContentTooShortError'],
  'urllib getproxies': ['urllib.request', 'getproxies'],
  'urllib pathname2url': ['urllib.request', 'pathname2url'],
  'urllib quote_plus': ['urllib.parse', 'quote_plus'],
  'urllib quote': ['urllib.parse', 'quote'],
  'urllib unquote_plus': ['urllib.parse', 'unquote_plus'],
  'urllib unquote': ['urllib.parse', 'unquote'],
  'urllib url2pathname': ['urllib.request', 'url2pathname'],
  'urllib urlcleanup': ['urllib.request', 'urlcleanup'],
  'urllib urlencode': ['urllib.parse', 'urlencode'],
  'urllib urlopen': ['urllib.request', 'urlopen'],
  'urllib urlretrieve': ['urllib.request', 'urlretrieve'],
  'urllib2 HTTPError': ['urllib.error', 'HTTPError'],
  'urllib2 URLError': ['urllib.error', 'URLError'],
};

/** The module and name find_class imports for a GLOBAL (protocol < 3 maps Python 2 names first). */
export function resolveGlobal(module: string, name: string, protocol: number): { module: string; name: string } {
  if (protocol < 3) {
    const mapped = NAME_MAPPING[`${module} ${name}`];
    if (mapped) return { module: mapped[0], name: mapped[1] };
    const moved = IMPORT_MAPPING[module];
    if (moved) return { module: moved, name };
  }
  return { module, name };
}
