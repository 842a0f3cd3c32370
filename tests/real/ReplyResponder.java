/* tests/real/ReplyResponder.java - the other side of a request, as a Java
 * application writes it: a push consumer that answers every message of a
 * topic with MessageUtil.createReplyMessage and a producer's send. The body
 * of the reply is "reply:" and the request's body.
 *
 *   java -cp DIR:$ROCKETMQ_HOME/lib/* ReplyResponder NAMESRV TOPIC GROUP READY_FILE LIFETIME_S
 *
 * It writes READY_FILE once subscribed and started, and exits by itself
 * after LIFETIME_S seconds, so that a test run that died cannot leave it
 * behind for long. */
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public class ReplyResponder {
    public static void main(String[] args) throws Exception {
        String namesrv = args[0], topic = args[1], group = args[2], ready = args[3];
        long lifetimeMs = Long.parseLong(args[4]) * 1000L;
        final DefaultMQProducer producer = new DefaultMQProducer(group + "_Replier");
        producer.setNamesrvAddr(namesrv);
        producer.start();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(namesrv);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener(new MessageListenerConcurrently() {
            @Override
            public ConsumeConcurrentlyStatus consumeMessage(List<MessageExt> msgs, ConsumeConcurrentlyContext ctx) {
                for (MessageExt m : msgs) {
                    try {
                        byte[] body = ("reply:" + new String(m.getBody(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                        Message reply = MessageUtil.createReplyMessage(m, body);
                        producer.send(reply, 5000);
                    } catch (Exception e) {
                        System.err.println("reply to " + m.getMsgId() + " failed: " + e);
                    }
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            }
        });
        consumer.start();
        Files.write(Paths.get(ready), "ready\n".getBytes(StandardCharsets.UTF_8));
        System.out.println("ready: " + topic);
        Thread.sleep(lifetimeMs);
        consumer.shutdown();
        producer.shutdown();
        System.exit(0);
    }
}
