/** The subset of OCSF 1.1.0 "Datastore Activity" (class 6005) that querytrail fills. See docs/ocsf.md. */
export interface OcsfDatastoreActivity {
  class_uid: 6005;
  class_name: 'Datastore Activity';
  category_uid: 6;
  category_name: 'Application Activity';
  activity_id: OcsfActivityId;
  activity_name: string;
  type_uid: number;
  type_name: string;
  /** Event time, milliseconds since the epoch. */
  time: number;
  start_time?: number;
  end_time?: number;
  /** Milliseconds. */
  duration?: number;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  status_code?: string;
  status_detail?: string;
  message: string;
  metadata: {
    version: '1.1.0';
    product: { name: 'querytrail'; vendor_name: 'querytrail'; version: string };
    uid: string;
    original_time: string;
    correlation_uid?: string;
    log_name?: string;
    profiles?: string[];
  };
  actor: {
    user?: { uid: string; name?: string; type_id: number; type: string; groups?: { name: string }[] };
    session?: { uid: string };
    app_name: string;
    invoked_by?: string;
  };
  type_id: number;
  type: string;
  database?: { name?: string; type: string; type_id: number };
  table?: { name: string };
  query_info?: { query_string?: string; name?: string; uid?: string };
  dst_endpoint?: { hostname?: string; ip?: string; port?: number };
  src_endpoint?: { ip: string };
  http_request?: { uid?: string; http_method?: string; user_agent?: string; url?: { path: string } };
  action_id?: number;
  action?: string;
  disposition_id?: number;
  disposition?: string;
  /** querytrail fields OCSF has no place for (integrity, objects, sensitivity, policy, params, rows). */
  unmapped: Record<string, unknown>;
}

/** 1.1.0 activity_id values: 0 Unknown, 1 Read, 2 Update, 3 Connect, 4 Query, 5 Write, 6 Create, 7 Delete, 99 Other. */
export type OcsfActivityId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 99;
