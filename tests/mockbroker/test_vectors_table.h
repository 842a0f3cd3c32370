/* test_vectors_table.h - what the .txt description of every captured frame
 * in tests/vectors says (shared/vectors/<scenario>/NNN_*.txt): serialize
 * type, code, opaque, flag, frame / header / body sizes, number of
 * extFields (-1 = no extFields key), version, language and remark.
 * Included by test_mockbroker.c only. */
#ifndef TEST_VECTORS_TABLE_H
#define TEST_VECTORS_TABLE_H

typedef struct vector_expect {
    const char *file;
    int ser, code, opaque, flag;
    unsigned long total, header_len, body_len;
    int next;
    int version;
    const char *language;
    const char *remark;
} vector_expect;

static const vector_expect vector_table[] = {
    {"producer_existing_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 0, 0, 136, 128, 0, 1, 409, "JAVA", NULL},
    {"producer_existing_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 0, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"producer_existing_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 2, 0, 139, 131, 0, 1, 409, "JAVA", NULL},
    {"producer_existing_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 2, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 4, 0, 394, 370, 16, 13, 409, "JAVA", NULL},
    {"producer_existing_topic/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 4, 1, 240, 232, 0, 5, 409, "JAVA", NULL},
    {"producer_existing_topic/006_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 6, 0, 394, 370, 16, 13, 409, "JAVA", NULL},
    {"producer_existing_topic/007_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 6, 1, 240, 232, 0, 5, 409, "JAVA", NULL},
    {"producer_existing_topic/008_client_to_broker_SEND_BATCH_MESSAGE_req.bin", 0, 320, 8, 0, 617, 276, 333, 13, 409, "JAVA", NULL},
    {"producer_existing_topic/009_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS.bin", 0, 0, 8, 1, 306, 298, 0, 5, 409, "JAVA", NULL},
    {"producer_existing_topic/010_client_to_broker_SEND_MESSAGE_V2_oneway.bin", 0, 310, 10, 2, 401, 381, 12, 13, 409, "JAVA", NULL},
    {"producer_existing_topic/011_client_to_broker_HEART_BEAT_req.bin", 0, 34, 11, 0, 255, 97, 150, -1, 409, "JAVA", NULL},
    {"producer_existing_topic/012_broker_to_client_HEART_BEAT_resp_SUCCESS.bin", 0, 0, 11, 1, 104, 96, 0, -1, 409, "JAVA", NULL},
    {"producer_existing_topic/013_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 13, 0, 191, 183, 0, 2, 409, "JAVA", NULL},
    {"producer_existing_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 13, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"producer_existing_topic/015_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 15, 0, 202, 194, 0, 2, 409, "JAVA", NULL},
    {"producer_existing_topic/016_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 15, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"producer_new_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 0, 0, 148, 140, 0, 1, 409, "JAVA", NULL},
    {"producer_new_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST.bin", 0, 17, 0, 1, 247, 239, 0, -1, 409, "JAVA", "No topic route info in name server for the topic: NewTopic1795288077\nSee http://rocketmq.apache.org/docs/faq/ for further details."},
    {"producer_new_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 2, 0, 136, 128, 0, 1, 409, "JAVA", NULL},
    {"producer_new_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 2, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"producer_new_topic/004_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 4, 0, 136, 128, 0, 1, 409, "JAVA", NULL},
    {"producer_new_topic/005_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 4, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"producer_new_topic/006_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 7, 0, 148, 140, 0, 1, 409, "JAVA", NULL},
    {"producer_new_topic/007_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 5, 0, 403, 379, 16, 13, 409, "JAVA", NULL},
    {"producer_new_topic/008_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST.bin", 0, 17, 7, 1, 247, 239, 0, -1, 409, "JAVA", "No topic route info in name server for the topic: NewTopic1795288077\nSee http://rocketmq.apache.org/docs/faq/ for further details."},
    {"producer_new_topic/009_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 5, 1, 239, 231, 0, 5, 409, "JAVA", NULL},
    {"producer_new_topic/010_client_to_broker_SEND_BATCH_MESSAGE_req.bin", 0, 320, 10, 0, 627, 286, 333, 13, 409, "JAVA", NULL},
    {"producer_new_topic/011_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS.bin", 0, 0, 10, 1, 306, 298, 0, 5, 409, "JAVA", NULL},
    {"producer_new_topic/012_client_to_broker_SEND_MESSAGE_V2_oneway.bin", 0, 310, 12, 2, 410, 390, 12, 13, 409, "JAVA", NULL},
    {"producer_new_topic/013_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 13, 0, 191, 183, 0, 2, 409, "JAVA", NULL},
    {"producer_new_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 13, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"producer_new_topic/015_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 15, 0, 202, 194, 0, 2, 409, "JAVA", NULL},
    {"producer_new_topic/016_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 15, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"pull_consumer/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 0, 0, 160, 152, 0, 2, 409, "JAVA", NULL},
    {"pull_consumer/001_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 1, 0, 147, 139, 0, 2, 409, "JAVA", NULL},
    {"pull_consumer/002_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 0, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"pull_consumer/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 1, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"pull_consumer/004_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 4, 0, 160, 152, 0, 2, 409, "JAVA", NULL},
    {"pull_consumer/005_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 4, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"pull_consumer/006_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 6, 0, 388, 380, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/007_broker_to_client_PULL_MESSAGE_resp_SUCCESS.bin", 0, 0, 6, 1, 911, 207, 696, 4, 409, "JAVA", "FOUND"},
    {"pull_consumer/008_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 8, 0, 388, 380, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/009_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND.bin", 0, 19, 8, 1, 230, 222, 0, 4, 409, "JAVA", "OFFSET_OVERFLOW_ONE"},
    {"pull_consumer/010_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 10, 0, 389, 381, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/011_broker_to_client_PULL_MESSAGE_resp_SUCCESS.bin", 0, 0, 10, 1, 433, 208, 217, 4, 409, "JAVA", "FOUND"},
    {"pull_consumer/012_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 12, 0, 389, 381, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/013_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND.bin", 0, 19, 12, 1, 231, 223, 0, 4, 409, "JAVA", "OFFSET_OVERFLOW_ONE"},
    {"pull_consumer/014_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 14, 0, 389, 381, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/015_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND.bin", 0, 19, 14, 1, 231, 223, 0, 4, 409, "JAVA", "NO_MESSAGE_IN_QUEUE"},
    {"pull_consumer/016_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 16, 0, 389, 381, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/017_broker_to_client_PULL_MESSAGE_resp_SUCCESS.bin", 0, 0, 16, 1, 427, 208, 211, 4, 409, "JAVA", "FOUND"},
    {"pull_consumer/018_client_to_broker_PULL_MESSAGE_req.bin", 0, 11, 18, 0, 389, 381, 0, 13, 409, "JAVA", NULL},
    {"pull_consumer/019_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND.bin", 0, 19, 18, 1, 231, 223, 0, 4, 409, "JAVA", "OFFSET_OVERFLOW_ONE"},
    {"pull_consumer/020_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 20, 0, 222, 214, 0, 3, 409, "JAVA", NULL},
    {"pull_consumer/021_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 20, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"pull_consumer/022_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 22, 0, 225, 217, 0, 3, 409, "JAVA", NULL},
    {"pull_consumer/023_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 22, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"transaction/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 0, 0, 136, 128, 0, 1, 409, "JAVA", NULL},
    {"transaction/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 0, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"transaction/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", 0, 105, 2, 0, 136, 128, 0, 1, 409, "JAVA", NULL},
    {"transaction/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 0, 0, 2, 1, 338, 95, 235, -1, 409, "JAVA", NULL},
    {"transaction/004_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 4, 0, 450, 428, 14, 13, 409, "JAVA", NULL},
    {"transaction/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 4, 1, 239, 231, 0, 5, 409, "JAVA", NULL},
    {"transaction/006_client_to_broker_END_TRANSACTION_oneway.bin", 0, 37, 6, 2, 318, 310, 0, 7, 409, "JAVA", NULL},
    {"transaction/007_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 7, 0, 454, 430, 16, 13, 409, "JAVA", NULL},
    {"transaction/008_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 7, 1, 239, 231, 0, 5, 409, "JAVA", NULL},
    {"transaction/009_client_to_broker_END_TRANSACTION_oneway.bin", 0, 37, 9, 2, 319, 311, 0, 7, 409, "JAVA", NULL},
    {"transaction/010_client_to_broker_SEND_MESSAGE_V2_req.bin", 0, 310, 10, 0, 453, 430, 15, 13, 409, "JAVA", NULL},
    {"transaction/011_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", 0, 0, 10, 1, 240, 232, 0, 5, 409, "JAVA", NULL},
    {"transaction/012_client_to_broker_END_TRANSACTION_oneway.bin", 0, 37, 12, 2, 319, 311, 0, 7, 409, "JAVA", NULL},
    {"transaction/013_client_to_broker_HEART_BEAT_req.bin", 0, 34, 13, 0, 260, 97, 155, -1, 409, "JAVA", NULL},
    {"transaction/014_broker_to_client_HEART_BEAT_resp_SUCCESS.bin", 0, 0, 13, 1, 104, 96, 0, -1, 409, "JAVA", NULL},
    {"transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway.bin", 0, 39, 60, 2, 618, 307, 303, 5, 409, "JAVA", NULL},
    {"transaction/016_client_to_broker_END_TRANSACTION_oneway.bin", 0, 37, 16, 2, 350, 342, 0, 7, 409, "JAVA", NULL},
    {"transaction/017_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 17, 0, 196, 188, 0, 2, 409, "JAVA", NULL},
    {"transaction/018_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 17, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
    {"transaction/019_client_to_broker_UNREGISTER_CLIENT_req.bin", 0, 35, 19, 0, 205, 197, 0, 2, 409, "JAVA", NULL},
    {"transaction/020_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", 0, 0, 19, 1, 119, 111, 0, 0, 409, "JAVA", NULL},
};

#endif
