// The `swiftlet` binary: the built-in plugins and the command line.

import Host

await Swiftlet.main()
