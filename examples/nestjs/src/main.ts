import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM (or SIGINT), Nest stops accepting connections, lets the requests in flight
  // finish, then DbModule closes the Db: sessions drained, connections and tunnel closed.
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  console.log(`listening on ${await app.getUrl()}`);
}

void bootstrap();
