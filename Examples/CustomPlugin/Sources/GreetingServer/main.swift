// GreetingServer: Swiftlet's command line with the built-in plugins and `greeting`.

import Greeting
import Host

await Swiftlet.main(adding: [GreetingPlugin.self])
