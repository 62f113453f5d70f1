# Freshet node image.  Build the shaded jar first:
#   mvn -DskipTests package        (-> modules/server/target/freshet-server.jar)
# then `docker compose --profile node up --build`.
FROM eclipse-temurin:17-jre
WORKDIR /app
COPY modules/server/target/freshet-server.jar /app/freshet-server.jar
COPY conf/ /app/conf/
EXPOSE 3030
# Exec form: java is PID 1 and gets SIGTERM from `docker stop` directly, so
# Vert.x can shut down cleanly.
ENTRYPOINT ["java", "-jar", "freshet-server.jar"]
CMD ["run", "--config", "conf/freshet.json"]
