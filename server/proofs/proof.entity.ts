import { BlobType, Cascade, Collection, Entity, Index, ManyToOne, OneToMany, Property, Unique } from "@mikro-orm/core";
import { Field, Int, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Task } from "../tasks/task.entity";
import { Operator } from "../operators/operator.entity";

/** One proof submission: the photos and notes of one attempt at a task. */
@ObjectType()
@Entity({ tableName: "proofs" })
@Unique({ properties: ["task", "attempt"] })
export class Proof extends BaseEntity {
  @ManyToOne(() => Task)
  task: Task;

  @ManyToOne(() => Operator)
  operator: Operator;

  @Field(() => Int, { description: "1 for the first submission, 2 for the first resubmission, ..." })
  @Property({ type: "integer" })
  attempt: number;

  @Field(() => String, { nullable: true })
  @Property({ type: "text", nullable: true })
  notes?: string;

  @OneToMany(() => ProofPhoto, (photo) => photo.proof, { cascade: [Cascade.PERSIST], orderBy: { position: "asc" } })
  photos = new Collection<ProofPhoto>(this);

  constructor(task: Task, operator: Operator, attempt: number, notes?: string) {
    super();
    this.task = task;
    this.operator = operator;
    this.attempt = attempt;
    this.notes = notes;
  }
}

/** A photo of a proof. The bytes live in the database so every replica sees them. */
@ObjectType()
@Entity({ tableName: "proof_photos" })
@Index({ properties: ["proof"] })
export class ProofPhoto extends BaseEntity {
  @ManyToOne(() => Proof)
  proof: Proof;

  @Field(() => Int)
  @Property({ type: "integer" })
  position: number;

  @Field(() => String)
  @Property({ type: "string", length: 100 })
  contentType: string;

  @Field(() => Int)
  @Property({ type: "integer" })
  byteSize: number;

  @Field(() => String, { description: "Hex SHA-256 of the bytes" })
  @Property({ type: "string", length: 64 })
  sha256: string;

  @Property({ type: BlobType, lazy: true })
  data: Buffer;

  constructor(proof: Proof, position: number, contentType: string, data: Buffer, sha256: string) {
    super();
    this.proof = proof;
    this.position = position;
    this.contentType = contentType;
    this.data = data;
    this.byteSize = data.length;
    this.sha256 = sha256;
  }
}
