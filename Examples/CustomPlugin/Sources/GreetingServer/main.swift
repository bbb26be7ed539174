// GreetingServer: Swiftlet's command line with the built-in plugins and `greeting`.

import Host
import Plugins

await Swiftlet.main(plugins: Registry.builtIn + [GreetingPlugin.self])
