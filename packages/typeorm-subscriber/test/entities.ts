import type { TypeormModule } from './versions.js';

/**
 * Test entities without decorators (EntitySchema of the TypeORM version under test), so no tsconfig
 * change is needed. Each call makes new classes and tables named after `prefix`, so test files (and
 * TypeORM versions) never share a table.
 */
export function makeEntities(typeorm: TypeormModule, prefix: string) {
  const { EntitySchema } = typeorm;
  class Author {
    id!: number;
    fullName!: string;
    email!: string;
    posts?: Post[];
  }
  class Post {
    id!: number;
    title!: string;
    author?: Author;
  }
  const author = new EntitySchema<Author>({
    name: 'Author',
    target: Author,
    tableName: `${prefix}_author`,
    columns: {
      id: { type: Number, primary: true, generated: 'increment' },
      fullName: { type: String, name: 'full_name', length: 100 },
      email: { type: String, length: 100 },
    },
    relations: { posts: { type: 'one-to-many', target: 'Post', inverseSide: 'author' } },
  });
  const post = new EntitySchema<Post>({
    name: 'Post',
    target: Post,
    tableName: `${prefix}_post`,
    columns: {
      id: { type: Number, primary: true, generated: 'increment' },
      title: { type: String, length: 200 },
    },
    relations: { author: { type: 'many-to-one', target: 'Author', inverseSide: 'posts', joinColumn: { name: 'author_id' }, onDelete: 'CASCADE' } },
  });
  return { Author, Post, schemas: [author, post], tables: { author: `${prefix}_author`, post: `${prefix}_post` } };
}
