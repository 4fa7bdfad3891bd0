DROP TABLE event_counter;
