/**
 * W3, the ORM flow (PostgreSQL): one operation of each ORM, raw or instrumented by its querytrail
 * plugin, imported as an application would (the built dists of @querytrail/prisma, /typeorm, /knex).
 * Each operation reads one author (keys spread over the table) and its 5 posts:
 * - prisma: `prisma.author.findMany({ where: { id }, include: { posts: true } })`, a relation
 *   (client generated from bench/prisma/schema.prisma into bench/.generated/prisma by bench/run.ts);
 * - typeorm: `repository.find({ where: { id }, relations: { posts: true } })` on EntitySchemas;
 * - knex: `knex('qt_bench_post').select('id', 'title', 'author_id').where('author_id', id)`.
 * The ORMs, like the drivers in W1/W2, are loaded only once the variant is set up.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AUTHORS_TABLE, DB_CONFIG, type Orm, POOL_SIZE, POSTS_TABLE, W3_AUTHORS } from './shared.js';

type Auditor = import('@querytrail/core').Auditor;
const require = createRequire(import.meta.url);

export const PRISMA_CLIENT = fileURLToPath(new URL('./.generated/prisma/client.ts', import.meta.url));

export interface OrmRunner {
  op(i: number): Promise<void>;
  close(): Promise<void>;
}

/** Deterministic author id for operation i, spread over the whole table (919 and 1000 are coprime). */
const authorId = (i: number): number => ((i * 919) % W3_AUTHORS) + 1;

function check(ok: boolean, orm: Orm): void {
  if (!ok) throw new Error(`${orm}: the W3 operation did not return one author with 5 posts`);
}

interface PrismaLike {
  author: { findMany(args: unknown): Promise<{ posts: unknown[] }[]> };
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
  $extends(ext: unknown): PrismaLike;
}

async function prismaRunner(auditor: Auditor | undefined): Promise<OrmRunner> {
  const pg = require('pg') as typeof import('pg');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  // A path the type checker does not follow: the client is generated at bench time.
  const clientPath: string = PRISMA_CLIENT;
  const { PrismaClient } = (await import(clientPath)) as { PrismaClient: new (o: { adapter: unknown }) => PrismaLike };
  const pool = new pg.Pool({ ...DB_CONFIG.postgres, max: POOL_SIZE });
  let prisma: PrismaLike;
  if (auditor) {
    const { querytrailExtension, withQuerytrail } = await import('@querytrail/prisma');
    prisma = new PrismaClient({ adapter: withQuerytrail(new PrismaPg(pool), auditor) }).$extends(querytrailExtension(auditor));
  } else {
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  }
  await prisma.$connect();
  return {
    async op(i) {
      const rows = await prisma.author.findMany({ where: { id: authorId(i) }, include: { posts: true } });
      check(rows.length === 1 && rows[0]!.posts.length === 5, 'prisma');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

async function typeormRunner(auditor: Auditor | undefined): Promise<OrmRunner> {
  const typeorm = await import('typeorm');
  class Author {
    id!: number;
    email!: string;
    name!: string;
    posts?: Post[];
  }
  class Post {
    id!: number;
    title!: string;
    author?: Author;
  }
  const schemas = [
    new typeorm.EntitySchema<Author>({
      name: 'Author',
      target: Author,
      tableName: AUTHORS_TABLE,
      columns: { id: { type: Number, primary: true, generated: 'increment' }, email: { type: String }, name: { type: String } },
      relations: { posts: { type: 'one-to-many', target: 'Post', inverseSide: 'author' } },
    }),
    new typeorm.EntitySchema<Post>({
      name: 'Post',
      target: Post,
      tableName: POSTS_TABLE,
      columns: { id: { type: Number, primary: true, generated: 'increment' }, title: { type: String } },
      relations: { author: { type: 'many-to-one', target: 'Author', inverseSide: 'posts', joinColumn: { name: 'author_id' } } },
    }),
  ];
  const ds = new typeorm.DataSource({ type: 'postgres', host: DB_CONFIG.postgres.host, port: DB_CONFIG.postgres.port, username: DB_CONFIG.postgres.user, database: DB_CONFIG.postgres.database, entities: schemas, synchronize: false, poolSize: POOL_SIZE });
  if (auditor) {
    const { instrumentTypeorm } = await import('@querytrail/typeorm');
    instrumentTypeorm(ds, auditor);
  }
  await ds.initialize();
  const repo = ds.getRepository(Author);
  return {
    async op(i) {
      const rows = await repo.find({ where: { id: authorId(i) }, relations: { posts: true } });
      check(rows.length === 1 && rows[0]!.posts?.length === 5, 'typeorm');
    },
    close: () => ds.destroy(),
  };
}

async function knexRunner(auditor: Auditor | undefined): Promise<OrmRunner> {
  const { default: knexFactory } = await import('knex');
  const knex = knexFactory({ client: 'pg', connection: { ...DB_CONFIG.postgres }, pool: { min: 0, max: POOL_SIZE } });
  if (auditor) {
    const { instrumentKnex } = await import('@querytrail/knex');
    instrumentKnex(knex, auditor);
  }
  return {
    async op(i) {
      const rows = await knex(POSTS_TABLE).select('id', 'title', 'author_id').where('author_id', authorId(i));
      check(rows.length === 5, 'knex');
    },
    close: () => knex.destroy(),
  };
}

export function makeOrmRunner(orm: Orm, auditor: Auditor | undefined): Promise<OrmRunner> {
  if (orm === 'prisma') return prismaRunner(auditor);
  if (orm === 'typeorm') return typeormRunner(auditor);
  return knexRunner(auditor);
}
