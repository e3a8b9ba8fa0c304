// The local stack's MongoDB stand-in: mongo-java-server (MongoDB wire protocol) with its H2 backend,
// so baskets survive a restart. Launched as a single-file Java program (no build step):
//   java -cp '.stack/lib/mongo/*' stack/mongo/MongoWireServer.java <host> <port> <h2-file>
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;

public class MongoWireServer {
    public static void main(String[] args) throws Exception {
        String host = args.length > 0 ? args[0] : "127.0.0.1";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 27017;
        String file = args.length > 2 ? args[2] : "mongo.mv";
        H2Backend backend = new H2Backend(file);
        MongoServer server = new MongoServer(backend);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            backend.close();
        }));
        server.bind(host, port);
        System.out.println("mongo-java-server listening on " + host + ":" + port + " file=" + file);
        Thread.currentThread().join();
    }
}
