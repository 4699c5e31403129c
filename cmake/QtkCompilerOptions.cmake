# Warnings and sanitizers shared by every qtk target.

function(qtk_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wfloat-conversion
                                           -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Wnull-dereference
                                           -Wimplicit-fallthrough
                                           # GCC 12 false positives in std::string (PR 105329)
                                           -Wno-restrict)
  if(QTK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(QTK_SANITIZE)
  message(STATUS "qtk: building with -fsanitize=${QTK_SANITIZE}")
  add_compile_options(-fsanitize=${QTK_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${QTK_SANITIZE})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 with -fsanitize=undefined reports std::regex internals as maybe-uninitialized.
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
