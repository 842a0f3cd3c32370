# find_package(rocketmq_producer): the targets of the source tree's
# CMakeLists.txt, over the installed headers. This file sits in
# <prefix>/share/rocketmq_producer/cmake, the headers in
# <prefix>/include/rocketmq_producer.
get_filename_component(rmq_include "${CMAKE_CURRENT_LIST_DIR}/../../../include/rocketmq_producer" ABSOLUTE)
if(NOT TARGET rocketmq_producer::rocketmq_producer)
    add_library(rocketmq_producer::rocketmq_producer INTERFACE IMPORTED)
    set_target_properties(rocketmq_producer::rocketmq_producer PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${rmq_include}")
    foreach(rmq_port posix lwip mbedtls sim)
        add_library(rocketmq_producer::port_${rmq_port} INTERFACE IMPORTED)
        set_target_properties(rocketmq_producer::port_${rmq_port} PROPERTIES
            INTERFACE_LINK_LIBRARIES rocketmq_producer::rocketmq_producer)
    endforeach()
    find_package(Threads QUIET)
    if(Threads_FOUND)
        set_property(TARGET rocketmq_producer::port_posix APPEND PROPERTY
            INTERFACE_LINK_LIBRARIES Threads::Threads)
    endif()
    set_property(TARGET rocketmq_producer::port_posix APPEND PROPERTY
        INTERFACE_COMPILE_DEFINITIONS _DEFAULT_SOURCE)
endif()
set(rocketmq_producer_FOUND TRUE)
