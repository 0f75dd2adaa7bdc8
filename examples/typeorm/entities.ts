import { EntitySchema } from 'typeorm';

/**
 * Entities as EntitySchema (no decorators, so the example runs under plain tsx). Decorated classes
 * (@Entity, @Column({ name: 'full_name' }), ...) are instrumented exactly the same way.
 */
export class Customer {
  id!: number;
  fullName!: string;
  email!: string;
  orders?: Order[];
}

export class Order {
  id!: number;
  total!: number;
  customer?: Customer;
}

export const CustomerSchema = new EntitySchema<Customer>({
  name: 'Customer',
  target: Customer,
  tableName: 'customers',
  columns: {
    id: { type: Number, primary: true, generated: 'increment' },
    fullName: { type: String, name: 'full_name' },
    email: { type: String },
  },
  relations: { orders: { type: 'one-to-many', target: 'Order', inverseSide: 'customer' } },
});

export const OrderSchema = new EntitySchema<Order>({
  name: 'Order',
  target: Order,
  tableName: 'orders',
  columns: {
    id: { type: Number, primary: true, generated: 'increment' },
    total: { type: 'int' },
  },
  relations: { customer: { type: 'many-to-one', target: 'Customer', inverseSide: 'orders', joinColumn: { name: 'customer_id' } } },
});
