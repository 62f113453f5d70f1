package io.freshet.lag;

import io.vertx.sqlclient.SqlClient;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Wraps a client and remembers the text of every statement sent through it: evidence of what went on the wire. */
final class RecordingSqlClient {

  final List<String> sent = new CopyOnWriteArrayList<>();
  final SqlClient client;

  RecordingSqlClient(SqlClient delegate) {
    client = (SqlClient) Proxy.newProxyInstance(SqlClient.class.getClassLoader(), new Class<?>[] {SqlClient.class},
        (proxy, method, args) -> {
          if ((method.getName().equals("query") || method.getName().equals("preparedQuery"))
              && args != null && args[0] instanceof String sql) {
            sent.add(sql);
          }
          try {
            return method.invoke(delegate, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  long countContaining(String fragment) {
    return sent.stream().filter(sql -> sql.contains(fragment)).count();
  }
}
